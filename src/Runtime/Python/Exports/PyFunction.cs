namespace PyMpiBridge.Python;

/// <summary>A function Python can call: receives the arguments, returns the result (null for None; ownership passes to Python).</summary>
public delegate PyObject? PyFunction(PyArguments args);
