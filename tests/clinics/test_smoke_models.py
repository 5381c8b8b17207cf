import pytest

from tests import factories

pytestmark = pytest.mark.django_db


def test_every_factory_saves():
    for name in dir(factories):
        factory_class = getattr(factories, name)
        if name.endswith("Factory") and hasattr(factory_class, "_meta") and name != "UserFactory":
            obj = factory_class()
            assert obj.pk is not None, name
            assert str(obj)
