"""The dossiers app stores nothing of its own: a dossier is read from the register and the monitoring
work when it is printed, and a village's print is a row of jobs.Job."""
