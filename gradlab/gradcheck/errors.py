"""What the gradient checker raises and warns, each naming the input at fault."""

from __future__ import annotations


class GradcheckError(ValueError):
    """A gradient check cannot be carried out as asked.

    The message names the input at fault (by position, and by name when it has
    one) and says what to change.
    """


class GradcheckDtypeError(GradcheckError, TypeError):
    """An input (or the output of ``f``) is not a real floating-point tensor."""


class NonFiniteError(GradcheckError):
    """An input, or ``f`` at the inputs, is NaN or infinite."""


class IndependentInputError(GradcheckError):
    """``f`` does not change when an input changes, or TensorFlow cannot see how it does.

    The classic cause is the *closure pitfall*: the checked function reads a
    model's variables from its enclosing scope instead of from its arguments,
    so both the numerical and the analytical gradient are zero and a naive
    check "passes".
    """


class PrecisionWarning(UserWarning):
    """The check could not run in float64, so it is less precise than usual."""
