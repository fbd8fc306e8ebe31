from strathwell.settings.base import *  # noqa: F403
