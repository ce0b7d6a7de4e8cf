using System.Runtime.CompilerServices;
using Microsoft.Data.Analysis;
using PyMpiBridge.Python;

namespace PyMpiBridge.DataFrames;

/// <summary>
/// Makes DataFrames cross wherever objects cross: exported C# functions taking or returning a <see cref="DataFrame"/>
/// (Python passes and gets pandas DataFrames), <c>PyObject.From(frame)</c>, <c>obj.As&lt;DataFrame&gt;()</c>, and
/// object messages (<c>comm.SendObject(frame)</c> arrives in mpi4py's <c>comm.recv()</c> as a pandas DataFrame; a pandas
/// DataFrame sent with <c>comm.send(df)</c> arrives from <c>comm.RecvObject&lt;DataFrame&gt;()</c>), and the parallel
/// client's push and pull (<see cref="EngineFrames"/>). Registered when
/// this assembly loads: a rank session loads it when it sits beside the program (a project reference puts it there).
/// </summary>
public static class DataFrameConverters
{
    /// <summary>pandas' DataFrame type as <see cref="PyObject.TypeName"/> names it.</summary>
    public const string PandasTypeName = "pandas.core.frame.DataFrame";

    /// <summary>Registers the conversions (idempotent; done on load, callable explicitly).</summary>
    public static void Register()
    {
        PyConverters.Register<DataFrame>(o => o.ToDataFrame(), frame => frame.ToPandas());
        PyConverters.RegisterNatural(PandasTypeName, o => o.ToDataFrame());
        EngineFrames.Register();
    }

#pragma warning disable CA2255 // a library module initializer is the point: loading the assembly is the opt-in
    [ModuleInitializer]
    internal static void OnLoad() => Register();
#pragma warning restore CA2255
}
