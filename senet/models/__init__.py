"""Model definitions; importing this package registers every model."""

from senet.models import resnet  # noqa: F401
from senet.models import cifar  # noqa: F401
from senet.models import shake  # noqa: F401
