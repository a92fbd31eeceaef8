"""Innovation metrics, per campaign and overall.

To build (see issue 8): the funnel (ideas per stage), new voices, time to first idea after launch, participation by
department and by employees vs guests, average time in each stage; CSV export safe against formula injection.
"""
