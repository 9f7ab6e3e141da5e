//===- Qmlir.td - The qmlir dialect, all definitions -------*- tablegen -*-===//
include "QmlirOps.td"
