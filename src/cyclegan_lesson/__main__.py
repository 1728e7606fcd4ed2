"""``python -m cyclegan_lesson {train,translate,bench} ...`` (see
:mod:`cyclegan_lesson.tools.cli`)."""

import sys

from .tools.cli import main

sys.exit(main())
