"""``python -m cyclegan_lesson {train,translate,bench} ...`` (see :mod:`cyclegan_lesson.cli`)."""

import sys

from .cli import main

sys.exit(main())
