"""Shared test settings: hypothesis without deadlines (gradchecks take variable time)."""

from hypothesis import settings

settings.register_profile("default", deadline=None, max_examples=20)
settings.load_profile("default")
