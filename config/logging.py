"""Keep personal data out of the logs, whatever the code that logs it.

Outreach's own log lines name records by id. Libraries are less careful: a request line carries
its query string (`?search=Jane`), an integrity error quotes the phone number it clashed on, a
lockout message names the account. `PersonalDataFilter` sits on the log handler and rewrites
each record before anything formats it: query strings are dropped, and email addresses, phone
numbers and NHS numbers are replaced by a placeholder, in the message, its arguments and any
traceback.
"""

import logging
import re

_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
# UK numbers (07..., 01..., 02..., +44...) and any international number: 10 to 15 digits,
# allowing the spaces, dashes and brackets people type. Ids and dates do not start with 0 or +.
_PHONE = re.compile(r"(?<![\w+])(?:\+\d{1,3}|\(?0)[\d\s()-]{8,16}\d(?!\w)")
# An NHS number (or any other ten-digit run), as typed: 943 476 5919, 943-476-5919.
_NHS_NUMBER = re.compile(r"(?<![\w-])\d{3}[ -]?\d{3}[ -]?\d{4}(?![\w-])")
# Everything after the ? of a URL or path: search terms, names, numbers.
_QUERY_STRING = re.compile(r"(?<=[\w/])\?[^\s\"'<>]+")


def redact(text: str) -> str:
    """`text` with query strings dropped and emails, phone and NHS numbers replaced."""
    text = _QUERY_STRING.sub("?[query removed]", text)
    text = _EMAIL.sub("[email]", text)
    text = _PHONE.sub("[phone]", text)
    return _NHS_NUMBER.sub("[number]", text)


class PersonalDataFilter(logging.Filter):
    """Rewrite every record so no handler after it can write personal data."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        # The request object travels with Django's request records; a formatter that printed
        # it would print the query string and the body.
        if hasattr(record, "request"):
            record.request = None
        return True
