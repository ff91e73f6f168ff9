"""Model definitions; importing this package registers every model."""

from senet.models import (
    cifar,  # noqa: F401
    inception,  # noqa: F401
    inception_resnet,  # noqa: F401
    mobile,  # noqa: F401
    resnet,  # noqa: F401
    shake,  # noqa: F401
    vgg,  # noqa: F401
)
