"""The nurse's pages. Views stay thin: each write is one call to outreach.services (or
clinics.services), whose DomainError is shown as a sentence; what people see comes from the
scoped querysets in each app's permissions.py."""
