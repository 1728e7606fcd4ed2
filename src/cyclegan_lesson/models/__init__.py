"""One module per model the course teaches, in the book's order.

* :mod:`~cyclegan_lesson.models.style_transfer` (chapter 4), :mod:`~cyclegan_lesson.models.vae`
  (5), :mod:`~cyclegan_lesson.models.gan` (6), :mod:`~cyclegan_lesson.models.wgan` (7),
  :mod:`~cyclegan_lesson.models.conditional_gan` (8), :mod:`~cyclegan_lesson.models.pix2pix`
  (9), :mod:`~cyclegan_lesson.models.stargan` (10), :mod:`~cyclegan_lesson.models.cyclegan`
  (11-14) and :mod:`~cyclegan_lesson.models.semantic` (CycleGAN's semantic-consistency loss);
* :mod:`~cyclegan_lesson.models.resumable` -- the resumable segments the chapter 8-10 trainers
  share.

May import: the top-level modules, ``nn``, ``book``, ``evaluation`` (a model scores itself with
the judges) and ``models``.
"""
