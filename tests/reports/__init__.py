"""Tests of the weekly complaint-trend reports."""
