from django.db import models


class Heartbeat(models.Model):
    """Last time a process proved it was alive; timers and deliveries need beat and a worker both."""

    name = models.CharField(max_length=40, unique=True)
    beat_at = models.DateTimeField()

    def __str__(self):
        return f"{self.name} at {self.beat_at:%H:%M:%S}"
