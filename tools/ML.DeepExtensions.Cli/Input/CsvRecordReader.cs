using System.Globalization;
using System.Text;

namespace ML.DeepExtensions.Cli.Input;

/// <summary>
/// Streams a CSV or TSV file with a header line: RFC 4180 quoting (fields in double quotes may hold
/// separators, doubled quotes and line breaks), CRLF or LF line ends, blank lines skipped. Memory is
/// one record, whatever the file's size.
/// </summary>
internal sealed class CsvRecordReader : RecordReader
{
    private readonly FileStream _file;
    private readonly StreamReader _reader;
    private readonly char _separator;
    private readonly string _path;
    private readonly List<string> _columns;
    private readonly StringBuilder _raw = new();
    private readonly List<(int Start, int Length)> _fields = [];
    private char[] _chars = new char[1024];
    private int _used;
    private long _nextLine = 1;
    private long _line;
    private readonly string _rawHeader;

    public CsvRecordReader(string path, char separator)
    {
        _path = path;
        _separator = separator;
        _file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        _reader = new StreamReader(_file, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16);
        if (!ReadRecord())
        {
            Dispose();
            throw CliException.Input($"The input file '{path}' is empty: it needs a header line naming its columns, then one line per row.");
        }

        _rawHeader = _raw.ToString();
        _readingHeader = false;
        _columns = Enumerable.Range(0, _fields.Count).Select(i => new string(FieldSpan(i)).Trim()).ToList();
        var duplicate = _columns.GroupBy(c => c, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            Dispose();
            throw CliException.Input($"The header of '{path}' names column '{duplicate.Key}' {duplicate.Count()} times.");
        }
    }

    public override IReadOnlyList<string> Columns => _columns;

    public override string Where => $"line {_line}";

    public override double Fraction => _file.Length == 0 ? 1 : Math.Min(1, (double)_file.Position / _file.Length);

    public override string RawRecord => _raw.ToString();

    public override string RawHeader => _rawHeader;

    public override bool MoveNext()
    {
        if (!ReadRecord())
        {
            return false;
        }

        RecordIndex++;
        Problem = _fields.Count == _columns.Count
            ? null
            : $"Line {_line} of '{_path}' has {_fields.Count} fields, but the header has {_columns.Count}";
        return true;
    }

    public override bool TryGetSingle(int field, out float value) =>
        float.TryParse(FieldSpan(field), NumberStyles.Float, CultureInfo.InvariantCulture, out value);

    public override bool TryGetDouble(int field, out double value) =>
        double.TryParse(FieldSpan(field), NumberStyles.Float, CultureInfo.InvariantCulture, out value);

    public override bool TryGetBoolean(int field, out bool value)
    {
        var text = FieldSpan(field).Trim();
        if (text.Equals("true", StringComparison.OrdinalIgnoreCase) || text is "1")
        {
            value = true;
            return true;
        }

        value = false;
        return text.Equals("false", StringComparison.OrdinalIgnoreCase) || text is "0";
    }

    public override string GetText(int field) => new(FieldSpan(field));

    public override string Show(int field) => $"'{new string(FieldSpan(field))}'";

    public override void Dispose()
    {
        _reader.Dispose();
        _file.Dispose();
    }

    private ReadOnlySpan<char> FieldSpan(int field)
    {
        var (start, length) = _fields[field];
        return _chars.AsSpan(start, length);
    }

    /// <summary>Reads one record into the field buffer; false at the end of the file.</summary>
    private bool ReadRecord()
    {
        while (true)
        {
            _raw.Clear();
            _fields.Clear();
            _used = 0;
            _line = _nextLine;
            int c = _reader.Read();
            if (c < 0)
            {
                return false;
            }

            if (c is '\n' or '\r')
            {
                // A blank line.
                ConsumeLineEnd(c);
                continue;
            }

            int fieldStart = 0;
            bool quoted = false;
            bool afterQuote = false;
            bool atFieldStart = true;
            while (true)
            {
                if (c < 0)
                {
                    if (quoted)
                    {
                        throw CliException.Input($"Line {_line} of '{_path}': a quoted field is not closed before the end of the file.");
                    }

                    EndField(ref fieldStart);
                    return true;
                }

                char ch = (char)c;
                if (quoted)
                {
                    Raw(ch);
                    if (ch == '"')
                    {
                        if (_reader.Peek() == '"')
                        {
                            _reader.Read();
                            Raw('"');
                            Append('"');
                        }
                        else
                        {
                            quoted = false;
                            afterQuote = true;
                        }
                    }
                    else
                    {
                        if (ch == '\n')
                        {
                            _nextLine++;
                        }

                        Append(ch);
                    }
                }
                else if (ch == _separator)
                {
                    Raw(ch);
                    EndField(ref fieldStart);
                    atFieldStart = true;
                    afterQuote = false;
                    c = _reader.Read();
                    continue;
                }
                else if (ch is '\n' or '\r')
                {
                    ConsumeLineEnd(ch);
                    EndField(ref fieldStart);
                    return true;
                }
                else if (ch == '"' && atFieldStart)
                {
                    Raw(ch);
                    quoted = true;
                }
                else
                {
                    Raw(ch);
                    if (!afterQuote)
                    {
                        Append(ch);
                    }
                }

                atFieldStart = false;
                c = _reader.Read();
            }
        }
    }

    /// <summary>The raw text is kept only for a reject file (and the header): it doubles the work per character.</summary>
    public bool KeepRawRecords { get; set; }

    private bool _readingHeader = true;

    private void Raw(char ch)
    {
        if (KeepRawRecords || _readingHeader)
        {
            _raw.Append(ch);
        }
    }

    private void ConsumeLineEnd(int c)
    {
        if (c == '\r' && _reader.Peek() == '\n')
        {
            _reader.Read();
        }

        _nextLine++;
    }

    private void EndField(ref int fieldStart)
    {
        _fields.Add((fieldStart, _used - fieldStart));
        fieldStart = _used;
    }

    private void Append(char ch)
    {
        if (_used == _chars.Length)
        {
            Array.Resize(ref _chars, _chars.Length * 2);
        }

        _chars[_used++] = ch;
    }
}
