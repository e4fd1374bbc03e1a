"""All peewee models. ALL_MODELS is in dependency order (parents before children)."""

from api.models.accounts import *  # noqa: F403
from api.models.accounts import ACCOUNT_MODELS
from api.models.apprenticeship_tracking import *  # noqa: F403
from api.models.apprenticeship_tracking import APPRENTICESHIP_TRACKING_MODELS
from api.models.apprenticeships import *  # noqa: F403
from api.models.apprenticeships import APPRENTICESHIP_MODELS
from api.models.content import *  # noqa: F403
from api.models.content import CONTENT_MODELS
from api.models.credentials import *  # noqa: F403
from api.models.credentials import CREDENTIAL_MODELS
from api.models.feed import *  # noqa: F403
from api.models.feed import FEED_MODELS
from api.models.ksb_assessment import *  # noqa: F403
from api.models.ksb_assessment import KSB_ASSESSMENT_MODELS
from api.models.tracking import *  # noqa: F403
from api.models.tracking import TRACKING_MODELS
from api.models.webhooks import *  # noqa: F403
from api.models.webhooks import WEBHOOK_MODELS

ALL_MODELS = [*CONTENT_MODELS, *ACCOUNT_MODELS, *TRACKING_MODELS, *FEED_MODELS, *WEBHOOK_MODELS, *CREDENTIAL_MODELS,
              *APPRENTICESHIP_MODELS, *APPRENTICESHIP_TRACKING_MODELS, *KSB_ASSESSMENT_MODELS]
