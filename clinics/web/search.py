"""Finding a person by name (tolerant of spelling), date of birth or NHS number."""

import re
from datetime import date

from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.functions import Greatest

from clinics.models import Patient
from clinics.validators import normalise_nhs_number

# Word similarity of the typed name to either name: "Jon" finds "John Smith", "Mohamed" finds
# "Muhammad". Below this the match is noise.
MIN_SIMILARITY = 0.3
MAX_RESULTS = 50


def find_people(
    people: QuerySet[Patient],
    *,
    name: str = "",
    date_of_birth: date | None = None,
    nhs_number: str = "",
) -> list[Patient]:
    """People matching every criterion given, the closest names first."""
    people = people.filter(merged_into__isnull=True)
    if nhs_number:
        people = people.filter(nhs_number=normalise_nhs_number(nhs_number))
    if date_of_birth:
        # A person with only a year of birth recorded may still be the one.
        people = people.filter(
            Q(date_of_birth=date_of_birth)
            | Q(date_of_birth__isnull=True, year_of_birth=date_of_birth.year)
        )
    name = " ".join(name.split())
    if not name:
        return list(people.order_by("preferred_name", "pk")[:MAX_RESULTS])
    if connection.vendor == "postgresql":
        return _by_trigram(people, name)
    return _by_letters(people, name)


def _by_trigram(people: QuerySet[Patient], name: str) -> list[Patient]:
    from django.contrib.postgres.search import TrigramWordSimilarity

    ranked = people.annotate(
        similarity=Greatest(
            TrigramWordSimilarity(name, "preferred_name"),
            TrigramWordSimilarity(name, "legal_name"),
        )
    ).filter(
        Q(similarity__gte=MIN_SIMILARITY)
        | Q(preferred_name__icontains=name)
        | Q(legal_name__icontains=name)
    )
    return list(ranked.order_by("-similarity", "preferred_name", "pk")[:MAX_RESULTS])


def _by_letters(people: QuerySet[Patient], name: str) -> list[Patient]:
    """Without trigrams (SQLite): a name containing what was typed, or sharing its first letters."""
    condition = Q(preferred_name__icontains=name) | Q(legal_name__icontains=name)
    for word in re.findall(r"\w+", name):
        stem = word[:3]
        condition |= (
            Q(preferred_name__istartswith=stem)
            | Q(legal_name__istartswith=stem)
            | Q(legal_name__icontains=f" {stem}")
        )
    return list(people.filter(condition).order_by("preferred_name", "pk")[:MAX_RESULTS])
