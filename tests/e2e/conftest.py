"""The `runner` fixture (an `orderflow run` stack on free ports) for every end-to-end module."""

from tests.e2e.test_stack import runner

__all__ = ["runner"]
