# Trigram matching for finding a person by a misspelt name (PostgreSQL only; a no-op elsewhere).
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("clinics", "0003_servicetype_reminder_offsets")]

    operations = [TrigramExtension()]
