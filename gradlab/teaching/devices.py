"""Split the CPU into logical devices, so ``tf.distribute`` has replicas to mirror over.

TensorFlow fixes its device list the first time it runs anything (an op, a
variable, even ``tf.config.list_logical_devices``); after that the CPU can no
longer be split. :func:`logical_cpus` therefore configures the split when it
still can, and otherwise returns the devices that exist with a
:class:`DeviceWarning` saying why there are fewer and what to do: never a
traceback. Call it before any other TensorFlow code, e.g. first thing in a
lesson's setup cell.
"""

from __future__ import annotations

import contextlib
import functools
import warnings
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import tensorflow as tf
else:
    from gradlab.tfsupport.lazy import tf

__all__ = ["DeviceWarning", "logical_cpus", "mirrored_strategy"]


class DeviceWarning(UserWarning):
    """TensorFlow already had its devices, so the CPU could not be split as asked."""


def logical_cpus(count: int) -> list[str]:
    """The names of ``count`` logical CPU devices, splitting the CPU now if TensorFlow allows.

    Before TensorFlow has initialised its devices, splits the first physical
    CPU into ``count`` logical devices and returns their names
    (``"/device:CPU:0"``, ...). Afterwards the split is fixed: returns the first
    ``count`` logical CPUs that exist (fewer if fewer exist, with a
    :class:`DeviceWarning` explaining why and how to get more).
    """
    return _logical_cpus(count, stacklevel=3)


def _logical_cpus(count: int, stacklevel: int) -> list[str]:
    if count < 1:
        raise ValueError(f"logical_cpus needs a count of at least 1, got {count}")
    cpu = tf.config.list_physical_devices("CPU")[0]
    # After initialisation this raises "Virtual devices cannot be modified ...".
    with contextlib.suppress(RuntimeError):
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(count)]
        )
    names = [device.name for device in tf.config.list_logical_devices("CPU")]
    if len(names) < count:
        warnings.warn(
            f"TensorFlow had already initialised its devices with {len(names)} logical CPU(s), "
            f"so the CPU could not be split into {count}; using {len(names)}. Something ran "
            "TensorFlow before gradlab.teaching.devices.logical_cpus: restart the kernel (or the "
            "process) and call it first.",
            DeviceWarning,
            stacklevel=stacklevel,
        )
    return names[:count]


def mirrored_strategy(replicas: int) -> tf.distribute.MirroredStrategy:
    """A ``MirroredStrategy`` over ``replicas`` logical CPUs (fewer if fewer exist, see
    :func:`logical_cpus`). The same devices give the same strategy object."""
    return _strategy_over(tuple(_logical_cpus(replicas, stacklevel=3)))


@functools.cache
def _strategy_over(devices: tuple[str, ...]) -> tf.distribute.MirroredStrategy:
    return tf.distribute.MirroredStrategy(list(devices))
