"""TensorFlow plumbing shared by the course and the tools.

- :mod:`~gradlab.tfsupport.lazy` — ``tf`` and ``keras`` imported on first use.
- :mod:`~gradlab.tfsupport.quiet` — TensorFlow without its C++ start-up noise
  (switched on by the course, never by importing a tool), and its Python
  warnings hidden for a block.
- :mod:`~gradlab.tfsupport.variables` — one readable label per variable.
"""
