#!/bin/sh
# Stands in for Prisma's native schema engine, which this machine cannot download;
# `prisma generate` does not call it.
exit 0
