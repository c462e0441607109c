"""Customer feedback: the ratings (and comments) customers give from the "delivered" notice, as the
merchant reads them: listed, per warehouse, and week by week."""
