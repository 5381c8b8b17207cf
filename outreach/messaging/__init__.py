"""The outbox: message rows written with the change that causes them, sent by Celery.

`outbox.queue_message` is the one way to create an outbound message; `outbox.send_message`
sends one row; `reminders` schedules appointment reminders; `receipts` and `inbound` handle
GOV.UK Notify's callbacks.
"""
