"""Find out what is wrong with a gradient, and where.

:func:`diagnose` computes the gradients of a loss (or takes your tape's
result) and reports, per variable or input: a ``None`` gradient and its likely
:class:`Cause` (not watched, integer dtype, went through NumPy, replaced by a
tensor, unused), a non-finite gradient, or a vanishing or exploding one, with
per-layer norms, a readable ``str()`` and a gradient-flow figure::

    diagnosis = diagnose(lambda: loss_fn(y, model(x)), model.trainable_variables)
    print(diagnosis)
    diagnosis.figure()

For NaNs, :func:`check_numerics` is a context manager that turns
``tf.debugging.enable_check_numerics`` on and always off again, and
:func:`dump_debug_info` / :func:`nonfinite_ops` write a Debugger V2 dump and
read back which ops produced NaN or infinity, in execution order.
"""

from gradlab.diagnose.diagnosis import (
    DEFAULT_EXPLODING,
    DEFAULT_VANISHING,
    DEFAULT_VANISHING_FLOOR,
    diagnose,
)
from gradlab.diagnose.dump import (
    OpHealth,
    check_numerics,
    dump_debug_info,
    nonfinite_ops,
    read_health,
)
from gradlab.diagnose.report import Cause, GradientDiagnosis, SourceDiagnosis, Status

__all__ = [
    "DEFAULT_EXPLODING",
    "DEFAULT_VANISHING",
    "DEFAULT_VANISHING_FLOOR",
    "Cause",
    "GradientDiagnosis",
    "OpHealth",
    "SourceDiagnosis",
    "Status",
    "check_numerics",
    "diagnose",
    "dump_debug_info",
    "nonfinite_ops",
    "read_health",
]
