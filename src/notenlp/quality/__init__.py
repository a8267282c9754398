"""Data quality: Great Expectations gates between stages, GX Data Docs, and the nightly HTML report."""
