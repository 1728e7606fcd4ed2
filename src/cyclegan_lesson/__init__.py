"""cyclegan_lesson: the shared package of the cyclegan-lesson course.

Importing the package registers its custom Keras layers, so generators saved as ``.keras``
files load with ``keras.models.load_model`` after ``import cyclegan_lesson``. It also imports
TensorFlow without its C++ start-up notices (set ``CYCLEGAN_VERBOSE_TF=1`` to see them).
"""

import os as _os

if _os.environ.get("KERAS_BACKEND", "tensorflow") == "tensorflow":
    from ._quiet import import_tensorflow_quietly as _import_tf

    _import_tf()

# Import every module that registers serializable Keras classes, so that any `.keras` file the
# package writes (generators, discriminators, classifiers) loads after `import cyclegan_lesson`.
from . import cyclegan, layers, networks, residual_nets, style_transfer, vae  # noqa: E402,F401

__version__ = "0.1.0"
