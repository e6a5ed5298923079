"""Callout operations, one module a job.

- ``callouts``: launch, escalate, respond, cancel, close and the operator's other actions on a callout.
- ``alerts``: the delivery rows those operations create and cancel, and the nudge that sends them.
- ``deliveries``: what the beat sweep and the send tasks do with due deliveries: lease, claim, hand over to the
  providers, record the outcome (and the providers' later status reports).
- ``replies``: texts sent back to an alert, kept as they came, understood or not.
"""
