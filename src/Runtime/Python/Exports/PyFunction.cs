namespace PyMpiBridge.Python;

/// <summary>
/// A function Python can call: receives the arguments, returns the result (null for None). The result stays yours:
/// Python gets a new reference of its own, so a cached object may be returned again and again.
/// </summary>
public delegate PyObject? PyFunction(PyArguments args);

/// <summary>A compiled export's entry point: returns a new reference for Python to take (never null; exceptions propagate).</summary>
internal delegate NewReference RawPyFunction(PyArguments args);
