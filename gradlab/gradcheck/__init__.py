"""Finite-difference gradient checking that beats ``tf.test.compute_gradient``.

:func:`check_gradients` compares the gradient TensorFlow computes (one
``tf.GradientTape`` pass) with central differences and returns a
:class:`GradcheckReport` with a verdict, the largest errors, the worst value
of each input, and a readable summary::

    report = check_gradients(loss, [w, b])            # every element
    report = check_gradients(loss, [w, b], mode="fast")  # a few random directions
    print(report)

:func:`numerical_gradient` gives the finite-difference gradient itself.

Both promote inputs to float64 when ``f`` runs in float64 (and warn with
:class:`PrecisionWarning` when it cannot), and refuse, naming the input,
integer inputs, non-finite values, and inputs ``f`` does not depend on (the
closure pitfall: a function that reads a model's weights from its enclosing
scope instead of its arguments gets zero gradients on both sides).
"""

from gradlab.gradcheck.check import check_gradients, numerical_gradient
from gradlab.gradcheck.compare import DEFAULT_ATOL, DEFAULT_RTOL, relative_errors
from gradlab.gradcheck.differences import default_step
from gradlab.gradcheck.errors import (
    GradcheckDtypeError,
    GradcheckError,
    IndependentInputError,
    NonFiniteError,
    PrecisionWarning,
)
from gradlab.gradcheck.report import ElementComparison, GradcheckReport, InputReport

__all__ = [
    "DEFAULT_ATOL",
    "DEFAULT_RTOL",
    "ElementComparison",
    "GradcheckDtypeError",
    "GradcheckError",
    "GradcheckReport",
    "IndependentInputError",
    "InputReport",
    "NonFiniteError",
    "PrecisionWarning",
    "check_gradients",
    "default_step",
    "numerical_gradient",
    "relative_errors",
]
