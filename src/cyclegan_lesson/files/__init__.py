"""Files, read and written safely; the bottom layer beside the top-level modules.

Modules:

* ``atomic`` -- files replaced atomically (a reader, or a run resumed after a kill, sees the old
  file or the new one, never half of one), and the kill tests' fault points;
* ``keras_compat`` -- ``.keras`` files loaded on the Keras a reader has, including files saved by
  a newer Keras whose only novelties are config keys at their default values.

May import: the standard library, NumPy and Keras only; nothing else of the package.
"""
