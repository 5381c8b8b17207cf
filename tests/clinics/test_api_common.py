"""The API helpers every app shares."""

import pytest
from rest_framework import serializers

from clinics.api.common import FreshFieldsSerializer
from outreach.api.serializers import BookingInputSerializer

pytestmark = pytest.mark.django_db


def _config(field):
    return (type(field), field._args, field._kwargs, field.required, field.default)


def test_fresh_fields_are_the_declared_fields_made_again():
    first, second = BookingInputSerializer(), BookingInputSerializer()
    declared = BookingInputSerializer._declared_fields

    assert list(first.fields) == list(declared)
    for name, field in first.fields.items():
        assert field is not declared[name]
        assert field is not second.fields[name]
        assert field.parent is first
        assert _config(field) == _config(serializers.Serializer.get_fields(first)[name])
    assert first.fields["source"].choices == declared["source"].choices


def test_a_field_declared_with_something_mutable_is_still_deep_copied():
    class Form(FreshFieldsSerializer):
        plain = serializers.CharField(max_length=5)
        picked = serializers.ChoiceField(["a", "b"])
        odd = serializers.DictField(default=dict, child=serializers.CharField())
        nested = BookingInputSerializer(required=False)

    form = Form(data={"plain": "abc", "picked": "a"})

    assert form.is_valid(), form.errors
    assert form.validated_data == {"plain": "abc", "picked": "a", "odd": {}}
    # The child serializer field is an instance, so the DictField is deep-copied, and so is
    # the nested serializer: neither shares its declared parts.
    assert form.fields["odd"].child is not Form._declared_fields["odd"].child
    assert form.fields["nested"] is not Form._declared_fields["nested"]
    assert Form(data={"plain": "toolong", "picked": "c"}).is_valid() is False
