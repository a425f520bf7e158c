"""Anchor that lets mmengine find this package's configs in every kind of install.

mmengine resolves ``_base_ = ['rtmo_plugin::rtmo/coco/...py']`` by mapping the scope
to a name in ``MODULE2PACKAGE`` and reading ``<installed path>/.mim/configs/...``. For a
pip *distribution* name the installed path comes from pkg_resources, which for an
editable (PEP 660) install is site-packages, where the code is not. This module is not
a distribution, so mmengine falls back to ``importlib.util.find_spec``, which returns
the real folder of the package (the folder of this file, holding ``.mim/``) for
editable installs and wheels alike.
"""
