"""SCORM 1.2 and 2004 packages: reading, importing, playing and tracking them."""
