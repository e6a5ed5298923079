"""The embedded Celery broker (no REDIS_URL): kombu's filesystem transport, made safe to run for months.

kombu's own transport creates each message file under its final name and then writes it, so a worker listing
the folder can read a file that is still empty; the JSONDecodeError then stops the worker ("Unrecoverable
error"). Here a message is written under a temporary name and renamed into place, so a reader sees all of it
or nothing, and a file that is gone or unreadable when the worker gets to it is skipped, never raised.

Messages are taken lowest priority number first, as on Redis (callouts.tasks.SEND_PRIORITY), so the sweep does
not queue behind the sends of a large fan-out. Like every kombu virtual transport, a message taken by a worker
lives in the worker's memory until it is acknowledged: a worker killed with SIGKILL loses the tasks it held. The
rows are the truth (the next sweep claims their work again once the lease runs out), so nothing is lost for good.
"""

import logging
import os
import time
import uuid
from pathlib import Path
from queue import Empty

from kombu.transport import filesystem
from kombu.utils.json import dumps, loads

log = logging.getLogger(__name__)


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        # "<priority>_<ns>_<uuid>.<queue>.msg": a sorted listing is priority order, then arrival order. The
        # temporary name does not end in .msg, so no reader takes it before os.replace makes it whole.
        name = f"{self._get_message_priority(payload)}_{time.time_ns():020d}_{uuid.uuid4().hex}.{queue}.msg"
        folder = Path(self.data_folder_out)
        temporary = folder / f".{name}.tmp"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(dumps(payload).encode())
            os.replace(temporary, folder / name)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise

    def _get(self, queue):
        wanted = f"{queue}.msg"
        inbox, claimed = Path(self.data_folder_in), Path(self.processed_folder)
        for name in sorted(os.listdir(inbox)):
            if name.partition(".")[2] != wanted:
                continue
            try:
                # A rename is atomic: of two workers, one gets the file and the other FileNotFoundError.
                os.replace(inbox / name, claimed / name)
            except FileNotFoundError:
                continue
            payload = self._read(claimed / name)
            if payload is not None:
                return payload
        raise Empty()

    def _read(self, path: Path):
        """The message in a claimed file, or None (logged) when it cannot be read; the file is removed."""
        try:
            return loads(path.read_bytes().decode())
        except (OSError, ValueError) as error:
            log.error("Broker message %s could not be read and is skipped: %r", path.name, error)
            return None
        finally:
            path.unlink(missing_ok=True)

    def _size(self, queue):
        wanted = f"{queue}.msg"
        return sum(1 for name in os.listdir(self.data_folder_in) if name.partition(".")[2] == wanted)


class Transport(filesystem.Transport):
    Channel = Channel

    @property
    def default_connection_params(self):
        # The folders are the broker: no host. kombu's "localhost" default only earned a warning at every start.
        return {"port": self.default_port}
