"""Network families, each built from a frozen configuration (its presets mirror the paper's tables).

The named models (``se_resnet50``, ``resnet50``, ...) are rows of :mod:`senet.zoo`; nothing here
registers anything.
"""

from senet.models import (
    cifar,  # noqa: F401
    inception,  # noqa: F401
    inception_resnet,  # noqa: F401
    mobile,  # noqa: F401
    resnet,  # noqa: F401
    shake,  # noqa: F401
    vgg,  # noqa: F401
)
