"""The synthetic demo data set (:mod:`.dataset`) and its targeting areas (:mod:`.areas`)."""
