"""Report operations, one module each: filing (drafts, submit, amend, attachments), processing (what happens
after a version is submitted), circulation, referrals and reviews."""
