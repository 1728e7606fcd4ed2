"""The programs on top of the package: the command line and what it runs besides training.

* :mod:`~cyclegan_lesson.tools.cli` -- ``python -m cyclegan_lesson train | translate | evaluate |
  bench | export-onnx``;
* :mod:`~cyclegan_lesson.tools.image_io` -- image files read at their true values (16-bit,
  float, EXIF orientation; decompression bombs refused);
* :mod:`~cyclegan_lesson.tools.any_size` -- translate a photo of any size (tiles);
* :mod:`~cyclegan_lesson.tools.onnx_export` -- a generator as ONNX for the browser;
* :mod:`~cyclegan_lesson.tools.bench_plain` -- the keras.io-style baseline ``bench`` compares
  with.

May import: anything in the package.
"""
