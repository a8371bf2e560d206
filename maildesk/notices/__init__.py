"""Who gets which mail: one table of event → readers → template, and one entry point, `notify`."""

from maildesk.notices.addressing import NO_THREAD, Thread
from maildesk.notices.events import NoticeEvent
from maildesk.notices.recipients import no_watchers_yet
from maildesk.notices.send import Notified, notify

__all__ = ["NO_THREAD", "NoticeEvent", "Notified", "Thread", "no_watchers_yet", "notify"]
