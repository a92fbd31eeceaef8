"""Every module's models, imported so SQLAlchemy and Alembic see the whole schema."""

from socius.accounts.models import Account, ApiToken, GuestInvitation, LoginFailure, WebSession
from socius.activity.models import Activity, ActivityTag, Follow
from socius.admin.models import AuditEntry
from socius.communities.models import Community, Membership
from socius.content.models import Item, ItemLike, Report
from socius.core.db import Base
from socius.directory.models import DirectoryIdentity, DirectoryReview, DirectorySource, DirectorySync
from socius.expertise.models import PersonTag, Tag, TagAssignment, TagSpelling, TagTerm, Team
from socius.files.models import FileVersion
from socius.ideas.models import (
                                 Campaign,
                                 CampaignMember,
                                 Criterion,
                                 Follower,
                                 Idea,
                                 IdeaCoauthor,
                                 Merge,
                                 ReviewAssignment,
                                 ReviewScore,
                                 StageChange,
                                 Vote,
)
from socius.notifications.models import Notification, NotificationPreference
from socius.people.models import Person, PersonFieldSource, PersonNameKey, PersonPhoto
from socius.search.models import SearchOutbox
from socius.wiki.models import WikiPage, WikiRevision

__all__ = [
                                 "Account",
                                 "Activity",
                                 "ActivityTag",
                                 "ApiToken",
                                 "AuditEntry",
                                 "Base",
                                 "Campaign",
                                 "CampaignMember",
                                 "Community",
                                 "Criterion",
                                 "DirectoryIdentity",
                                 "DirectoryReview",
                                 "DirectorySource",
                                 "DirectorySync",
                                 "FileVersion",
                                 "Follow",
                                 "Follower",
                                 "GuestInvitation",
                                 "Idea",
                                 "IdeaCoauthor",
                                 "Item",
                                 "ItemLike",
                                 "LoginFailure",
                                 "Membership",
                                 "Merge",
                                 "Notification",
                                 "NotificationPreference",
                                 "Person",
                                 "PersonFieldSource",
                                 "PersonNameKey",
                                 "PersonPhoto",
                                 "PersonTag",
                                 "Report",
                                 "ReviewAssignment",
                                 "ReviewScore",
                                 "SearchOutbox",
                                 "StageChange",
                                 "Tag",
                                 "TagAssignment",
                                 "TagSpelling",
                                 "TagTerm",
                                 "Team",
                                 "Vote",
                                 "WebSession",
                                 "WikiPage",
                                 "WikiRevision",
]
