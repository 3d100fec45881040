"""Chat requests: a patient asks a practice for a care chat; tracked from invite to answer."""
