"""Gunicorn reads this file from the working directory (the Procfile and the image run there).

The default access log line quotes the whole request line and the referrer, query strings
included, and a search such as /api/v1/patients/?search=Jane names a patient. This format
keeps the method, the path without its query string, the status, the size and the time taken.
"""

access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'
