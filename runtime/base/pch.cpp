// Translation unit of the shared precompiled header (see the root CMakeLists.txt).
