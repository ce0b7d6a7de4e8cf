using PyMpiBridge.Python;
using PyMpiBridge.Python.Interop;

namespace PyMpiBridge.Tests.Python;

/// <summary>
/// Ownership is in the types: a C-API result typed <see cref="NewReference"/> is owned (dispose or move it), one typed
/// <see cref="BorrowedReference"/> is not, and a <see cref="StolenReference"/> argument hands a reference over. Pinned by
/// the reference counts of fresh objects (lists, never immortal), read from <c>ob_refcnt</c>.
/// </summary>
public unsafe class ReferenceOwnershipTests
{
    private static nint RefCount(BorrowedReference o) => *(nint*)o.Address;

    private static nint RefCount(PyObject o) => RefCount(o.Borrow());

    [Test]
    public void NewReference_Disposed_DropsTheCountItRaised()
    {
        using var gil = Py.Gil();
        using var list = Py.Eval("[1, 2]");
        nint before = RefCount(list);
        using (var reference = NewReference.FromBorrowed(list.Borrow()))
            Assert.That(RefCount(list), Is.EqualTo(before + 1));
        Assert.That(RefCount(list), Is.EqualTo(before));
    }

    [Test]
    public void NewReference_DisposedTwice_ReleasesOnce()
    {
        using var gil = Py.Gil();
        using var list = Py.Eval("[]");
        nint before = RefCount(list);
        var reference = NewReference.FromBorrowed(list.Borrow());
        reference.Dispose();
        reference.Dispose();
        Assert.That(reference.IsNull, Is.True);
        Assert.That(RefCount(list), Is.EqualTo(before));
    }

    [Test]
    public void Borrowing_LeavesTheCountAlone()
    {
        using var gil = Py.Gil();
        using var list = Py.Eval("[[]]");
        using var item = list[0];
        nint before = RefCount(item);
        BorrowedReference fromTable = CPython.PyList_GetItem(list.Borrow(), 0); // borrowed by its signature
        var fromObject = item.Borrow();
        Assert.That(fromTable == fromObject, Is.True, "both borrow the same object");
        Assert.That(RefCount(item), Is.EqualTo(before));
    }

    [Test]
    public void CApiResultTypedNewReference_IsOwnedUntilDisposed()
    {
        using var gil = Py.Gil();
        using var ns = PythonFixture.Run("class C: pass\nobj = C()\nobj.value = []");
        using var obj = ns["obj"];
        using var value = obj.GetAttr("value");
        using var name = PyObject.From("value");
        nint before = RefCount(value);
        using (var result = CPython.PyObject_GetAttr(obj.Borrow(), name.Borrow()))
        {
            Assert.That(result.Borrow() == value.Borrow(), Is.True);
            Assert.That(RefCount(value), Is.EqualTo(before + 1), "PyObject_GetAttr returns a new reference");
        }
        Assert.That(RefCount(value), Is.EqualTo(before));
    }

    [Test]
    public void MoveToPyObject_TransfersTheReference_TheMovedOneReleasesNothing()
    {
        using var gil = Py.Gil();
        using var list = Py.Eval("[]");
        nint before = RefCount(list);
        var reference = NewReference.FromBorrowed(list.Borrow());
        var owner = reference.MoveToPyObject();
        Assert.That(reference.IsNull, Is.True);
        reference.Dispose();
        Assert.That(RefCount(list), Is.EqualTo(before + 1), "the PyObject holds the one reference");
        owner.Dispose();
        Assert.That(RefCount(list), Is.EqualTo(before));
    }

    [Test]
    public void Stealing_GivesTheReferenceToTheContainer()
    {
        using var gil = Py.Gil();
        using var item = Py.Eval("[]");
        nint before = RefCount(item);
        using (var tuple = CPython.PyTuple_New(1))
        {
            var given = NewReference.FromBorrowed(item.Borrow());
            Assert.That(CPython.PyTuple_SetItem(tuple.Borrow(), 0, given.Steal()), Is.EqualTo(0));
            Assert.That(given.IsNull, Is.True, "stolen: nothing left to release");
            given.Dispose();
            Assert.That(RefCount(item), Is.EqualTo(before + 1), "the tuple owns the stolen reference");
        }
        Assert.That(RefCount(item), Is.EqualTo(before), "released with the tuple");
    }

    [Test]
    public void PyObjectStealReference_LeavesTheObjectDisposed_AndTheCountWithTheNewOwner()
    {
        using var gil = Py.Gil();
        using var item = Py.Eval("[]");
        nint before = RefCount(item);
        var owner = item.CloneRef();
        using (var list = CPython.PyList_New(1))
        {
            Assert.That(CPython.PyList_SetItem(list.Borrow(), 0, owner.StealReference()), Is.EqualTo(0));
            Assert.That(owner.IsDisposed, Is.True);
            owner.Dispose(); // no second release
            Assert.That(RefCount(item), Is.EqualTo(before + 1));
        }
        Assert.That(RefCount(item), Is.EqualTo(before));
    }

    [Test]
    public void ConversionsAndCallsWithPyObjectArguments_GiveBackEveryReferenceTheyTook()
    {
        using var gil = Py.Gil();
        using var ns = PythonFixture.Run("def keep_nothing(*args, **kwargs): return None\nd = {}");
        using var function = ns["keep_nothing"];
        using var dict = ns["d"];
        using var argument = Py.Eval("[]");
        nint before = RefCount(argument);
        for (int i = 0; i < 100; i++)
        {
            using (function.Call(argument, 1, "x")) { }
            using (function.Call([argument], [new("k", argument)])) { }
            using (function.Call(argument)) { }
            dict.SetItem("key", argument);
            dict.DelItem("key");
            _ = argument.PythonEquals(argument);
        }
        Assert.That(RefCount(argument), Is.EqualTo(before));
    }

    /// <summary>
    /// Lists of numbers cross without boxing (one C call per element): the new list's items are stolen into it, so the
    /// list holds the only reference to each; reading a list back borrows its items, also when a bad item stops it.
    /// </summary>
    [Test]
    public void NumberListsEachWay_TakeNoReferenceTheyDoNotGiveBack()
    {
        using var gil = Py.Gil();
        using var doubles = PyObject.From(new[] { 1.5, 2.5, 3.5 });
        using var longs = PyObject.From(new List<long> { long.MaxValue, long.MinValue });
        Assert.That(RefCount(doubles), Is.EqualTo((nint)1), "the PyObject holds the only reference to the new list");
        using (var item = doubles[1])
            Assert.That(RefCount(item), Is.EqualTo((nint)2), "the list and this PyObject");
        using (var item = longs[0])
            Assert.That(RefCount(item), Is.EqualTo((nint)2), "the list and this PyObject");

        using var mixed = Py.Eval("[float(1 << 60), 'not a number', 2.0]");
        using var first = mixed[0];
        nint firstBefore = RefCount(first), listBefore = RefCount(mixed);
        for (int i = 0; i < 100; i++)
        {
            Assert.That(doubles.As<double[]>(), Is.EqualTo(new[] { 1.5, 2.5, 3.5 }));
            Assert.That(longs.As<List<long>>(), Is.EqualTo(new[] { long.MaxValue, long.MinValue }));
            Assert.Throws<InvalidCastException>(() => mixed.As<double[]>());
        }
        Assert.That(RefCount(first), Is.EqualTo(firstBefore));
        Assert.That(RefCount(mixed), Is.EqualTo(listBefore));
    }

    [Test]
    public void FailingCApiCall_GivesANullNewReference_AndMovingItThrowsThePythonError()
    {
        using var gil = Py.Gil();
        using var obj = Py.Eval("object()");
        using var name = PyObject.From("no_such_attribute");
        var result = CPython.PyObject_GetAttr(obj.Borrow(), name.Borrow());
        Assert.That(result.IsNull, Is.True);
        try
        {
            result.MoveToPyObject();
            Assert.Fail("moving a null reference did not throw");
        }
        catch (PythonException e)
        {
            Assert.That(e.PythonTypeName, Is.EqualTo("AttributeError"));
        }
    }

    /// <summary>
    /// The table's signatures: no function returns a raw pointer where an object comes back, so every caller sees
    /// whether it owns the result. The few raw returns are sizes, hashes, C strings, thread states and slots.
    /// </summary>
    [Test]
    public void CApiTable_ReturnsObjectsOnlyAsNewOrBorrowedReferences()
    {
        string[] rawReturnsThatAreNotObjects =
            ["Py_GetVersion", "PyEval_SaveThread", "PyObject_Size", "PyObject_Hash", "PyTuple_Size", "PyList_Size", "PyType_GetSlot"];
        var functions = typeof(CPython).GetFields(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static)
            .Where(f => f.FieldType.IsFunctionPointer).ToList();
        Assert.That(functions, Has.Count.GreaterThan(80), "the table's function pointers are visible to reflection");
        var raw = functions.Where(f => f.FieldType.GetFunctionPointerReturnType() == typeof(nint)).Select(f => f.Name).ToList();
        Assert.That(raw, Is.EquivalentTo(rawReturnsThatAreNotObjects));
        string[] newReferences = ["PyObject_GetAttr", "PyObject_Vectorcall", "PyTuple_New", "PyLong_FromLongLong", "PyObject_Str", "PyIter_Next"];
        string[] borrowed = ["PyTuple_GetItem", "PyList_GetItem", "PyErr_Occurred", "PyImport_GetModuleDict", "PyEval_GetBuiltins"];
        Type Returned(string name) => functions.Single(f => f.Name == name).FieldType.GetFunctionPointerReturnType();
        Assert.Multiple(() =>
        {
            foreach (string name in newReferences) Assert.That(Returned(name), Is.EqualTo(typeof(NewReference)), name);
            foreach (string name in borrowed) Assert.That(Returned(name), Is.EqualTo(typeof(BorrowedReference)), name);
        });
    }
}
