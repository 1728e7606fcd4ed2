"""What the book shows a reader: figures and diagrams, source listings and Markdown tables.

* :mod:`~cyclegan_lesson.book.plotting` -- image grids, loss curves, the chapters' diagrams;
* :mod:`~cyclegan_lesson.book.show` -- ``show.source`` (the lines that carry an idea), tables,
  compact layer tables.

(The run header every chapter prints, :mod:`cyclegan_lesson.runinfo`, sits at the bottom of the
package: the data and model loaders use it too.)

May import: the top-level modules, ``nn`` and ``book``.
"""
