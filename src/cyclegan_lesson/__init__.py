"""cyclegan_lesson: the shared package of the cyclegan-lesson course.

Importing the package registers its custom Keras layers, so generators saved as ``.keras``
files load with ``keras.models.load_model`` after ``import cyclegan_lesson``. It also imports
TensorFlow without its C++ start-up notices (set ``CYCLEGAN_VERBOSE_TF=1`` to see them).

The package is grouped by role. Imports go one way, down this list (a module never imports one
listed after it; ``tests/test_layout.py`` checks it, and that no import cycle exists):

1. top-level modules -- ``data`` (the six domains as tf.data), ``digit_domains`` (StarGAN's
   seven), ``pretrained`` (the shipped models, checked against their SHA-256 manifest),
   ``runinfo`` (what a run prints: versions, device, wall time), and ``files`` (files replaced
   atomically; ``.keras`` files saved by a newer Keras loaded);
2. ``nn`` -- layers, network builders, losses: the building blocks;
3. ``book`` -- figures, source listings and tables for the chapters;
4. ``evaluation`` -- the judges: metrics, classifiers, sample quality, the case studies' tables;
5. ``models`` -- one module per model the course teaches (chapters 4-14);
6. ``training`` -- CycleGAN's ``train`` entry point, its callbacks, a step's cost;
7. ``tools`` -- the command line, any-size translation, ONNX export, the plain baseline.

Each subpackage's docstring lists its modules.
"""

import os as _os

if _os.environ.get("KERAS_BACKEND", "tensorflow") == "tensorflow":
    from ._quiet import import_tensorflow_quietly as _import_tf

    _import_tf()

# Import every module that registers serializable Keras classes, so that any `.keras` file the
# package writes (generators, discriminators, classifiers) loads after `import cyclegan_lesson`.
# (Private names: a module is reached by its place, e.g. `cyclegan_lesson.models.cyclegan`.)
from .models import cyclegan as _cyclegan  # noqa: E402,F401
from .models import style_transfer as _style_transfer  # noqa: E402,F401
from .models import vae as _vae  # noqa: E402,F401
from .nn import layers as _layers  # noqa: E402,F401
from .nn import networks as _networks  # noqa: E402,F401
from .nn import residual_nets as _residual_nets  # noqa: E402,F401

from .runinfo import __version__  # noqa: E402,F401
