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


class GradientShapeError(GradcheckError):
    """The tape's gradient for an input does not have the input's shape.

    TensorFlow checks neither the shape a ``tf.custom_gradient`` returns nor a
    registered gradient's, so a wrong one reaches the checker instead of failing
    where it is made.
    """


class PrecisionWarning(UserWarning):
    """The check could not run in float64, so it is less precise than usual."""


class BudgetError(GradcheckError):
    """A full check would take longer than its budget (``max_seconds``).

    The message gives the projected time and what to do instead: ``mode="fast"``,
    a subset of the inputs, or a larger ``max_seconds``.
    """


class NondeterministicError(GradcheckError):
    """``f`` gives different values at the same point (``tf.random`` inside, say).

    Finite differences subtract values of ``f`` at nearby points, so random
    noise in ``f`` would decide the verdict.
    """
