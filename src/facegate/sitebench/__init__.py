"""``facegate bench site``: a synthetic complex under load (see :mod:`facegate.sitebench.site`)."""
