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
scope instead of its arguments gets zero gradients on both sides). They also
refuse an ``f`` that is not deterministic (:class:`NondeterministicError`: it
is evaluated twice at the same point; the message names the random operations,
and so the layer), and a full check that would run longer
than its budget (:class:`BudgetError`, ``max_seconds``, default
:data:`DEFAULT_MAX_SECONDS`); a long full check prints its progress to stderr.

A full check is accelerated by replaying, for each input, only the part of
``f`` downstream of it (the private ``gradlab.gradcheck._replay``); the
report's ``cost`` line says which inputs were replayed and, for the others,
why not. ``GRADLAB_REPLAY=off`` switches the replay off, and
``GRADLAB_REPLAY=strict`` makes an unforeseen failure inside it an error
instead of a fallback (the test suite runs that way).
"""

from gradlab.gradcheck.check import check_gradients, numerical_gradient
from gradlab.gradcheck.compare import DEFAULT_ATOL, DEFAULT_RTOL, relative_errors
from gradlab.gradcheck.differences import default_step
from gradlab.gradcheck.errors import (
    BudgetError,
    GradcheckDtypeError,
    GradcheckError,
    GradientShapeError,
    IndependentInputError,
    NondeterministicError,
    NonFiniteError,
    PrecisionWarning,
)
from gradlab.gradcheck.progress import DEFAULT_MAX_SECONDS
from gradlab.gradcheck.report import ElementComparison, GradcheckReport, InputReport

__all__ = [
    "DEFAULT_ATOL",
    "DEFAULT_MAX_SECONDS",
    "DEFAULT_RTOL",
    "BudgetError",
    "ElementComparison",
    "GradcheckDtypeError",
    "GradcheckError",
    "GradcheckReport",
    "GradientShapeError",
    "IndependentInputError",
    "InputReport",
    "NonFiniteError",
    "NondeterministicError",
    "PrecisionWarning",
    "check_gradients",
    "default_step",
    "numerical_gradient",
    "relative_errors",
]
