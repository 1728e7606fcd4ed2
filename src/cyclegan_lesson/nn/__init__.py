"""The building blocks every model is made of: Keras layers, network builders, losses.

* :mod:`~cyclegan_lesson.nn.layers` -- reflection padding, instance normalization, the residual
  block, the luma/chroma output layer; NumPy reference normalizations (chapter 3);
* :mod:`~cyclegan_lesson.nn.networks` -- the generators (ResNet, U-Net) and the PatchGAN
  discriminator, named after the paper's options; receptive fields;
* :mod:`~cyclegan_lesson.nn.losses` -- adversarial (LSGAN, BCE, WGAN), cycle, identity and
  gradient-penalty losses;
* :mod:`~cyclegan_lesson.nn.residual_nets` -- plain vs residual networks of chapter 2;
* :mod:`~cyclegan_lesson.nn.numerics` -- the precision policy networks are built under, and the
  check that no weight is NaN or infinite.

May import: the package's top-level modules (``data``, ``runinfo``, ...) and ``nn`` itself.
"""
