"""The `runner` fixture (an `orderflow run` stack on free ports) for the whole-tree drills."""

from tests.e2e.test_stack import runner

__all__ = ["runner"]
